"""Import of applications from CSV files (a municipality's permits from its old system).

mapping.py loads the declarative mappings (mappings/*.toml), reading.py decodes the file,
records.py maps, cleans and merges its rows, services.py writes them in batches; forms.py and
admin_views.py are the admin's upload, preview and import.
"""
