"""The pages' template library `web`, named in TEMPLATES' OPTIONS["libraries"] (crm.web is not an app)."""
