"""Application services: plain-data engines the Discord layer, the CLI and the
scheduler call into. None of them imports discord."""
