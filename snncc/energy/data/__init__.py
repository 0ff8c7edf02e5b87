"""Built-in energy cost tables (JSON data, one file per table; see docs/energy.md)."""
