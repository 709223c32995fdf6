"""Fault tests: real processes, databases and fakes under hostile or failing conditions."""
