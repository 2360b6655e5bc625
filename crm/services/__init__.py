"""The only writers of domain state: keyword-only, typed, transactional."""
