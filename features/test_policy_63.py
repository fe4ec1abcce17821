"""Every feature file of 三政办〔2012〕63号 in this directory runs as tests."""
from pytest_bdd import scenarios

scenarios(".")
