"""The message catalogs (da, en) and the Babel extraction method that lists the ids the code names."""
