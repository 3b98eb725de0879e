"""HTTP edge: FastAPI app, auth, wire schemas, error mapping."""
