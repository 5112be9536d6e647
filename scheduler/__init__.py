"""The worker and its jobs: what runs on a schedule. It calls the use cases in commands/ and is handed the platforms'
delivery by its entry point (`python -m scheduler`, or `python -m bot` running it in-process)."""
