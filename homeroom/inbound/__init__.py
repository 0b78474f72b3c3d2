"""Inbound: read roster packages (folders and zip archives of CSV files) into raw tables.

``package`` opens a folder or zip safely; ``csv_reader`` parses one CSV file strictly, line by line;
``formats`` describes each roster format's files and columns; ``detect`` tells formats apart.
"""
