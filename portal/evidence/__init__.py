"""Evidence: the documents that prove a claim — checked on intake, hashed, typed, linked."""
