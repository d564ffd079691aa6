"""The order CSV upload form. It checks the shape of the upload; the import service
checks the file's content, row by row."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField


class ImportUploadForm(FlaskForm):
    channel = SelectField("Sales channel", description="The channel these orders were placed on.")
    file = FileField("CSV file", validators=[
        FileRequired("Choose the CSV file to import."),
        FileAllowed(["csv"], "Only .csv files can be imported (one row per order line, header row first)."),
    ])
    skip_invalid = BooleanField(
        "Skip invalid rows",
        description="Import the valid orders and list the rest. Without it, one rejected row imports nothing.",
    )
