"""OpenIOP: an open-source platform for running an Intensive Outpatient Program."""

__version__ = "0.1.0"
