"""Incentive policies per building, street or district, evaluated into yuan amounts."""
