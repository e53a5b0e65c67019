"""Local development: the HTTP dev server (``python -m authlib_core dev``), its reloader and static files.

Nothing here is imported by the Lambda function.
"""
