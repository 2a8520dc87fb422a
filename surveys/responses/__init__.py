"""Responses: answering a questionnaire page by page (questionnaire), answers collected
elsewhere (importer), and a wave's answers one row each (export)."""
