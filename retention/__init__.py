"""Retention (稳商): the learned move-out risk of every tenancy, and where the district sees it."""
