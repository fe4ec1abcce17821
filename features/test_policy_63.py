"""Every feature file in this directory (63号 and 81号) runs as tests."""
from pytest_bdd import scenarios

scenarios(".")
