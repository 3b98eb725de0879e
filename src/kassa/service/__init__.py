"""Use cases: orchestrate the domain over ports; no SQL, no HTTP."""
