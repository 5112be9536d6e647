"""The command language and the use cases: parse → authorise → act → Reply. No platform imports."""
