"""The data and its protection: tables, sessions, migrations, crypto, pseudonyms, audit."""
