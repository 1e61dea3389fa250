"""Quarterly and annual reports of the plan's targets: content gathered once, written as .docx and .xlsx.

``content.build_report`` collects the figures (targets, crime by category and by area, hotspots, key areas);
``docx_report.write_docx`` and ``xlsx_report.write_xlsx`` lay the same content out; ``maps`` draws the map
images on the server with matplotlib (no tiles, no network).
"""
