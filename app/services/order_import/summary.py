"""What an import found and did: the answer the CLI prints and the web pages show.

The same shape for a dry run and a real run; it is stored as JSON on the import job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Stored summaries keep the counts exact but list at most this many entries per list,
# so that a 100,000-row file does not turn into a multi-megabyte JSON column.
STORED_LIST_LIMIT = 500


@dataclass(frozen=True)
class RowError:
    """Why a row (or the whole file, when line is None) was rejected."""

    line: int | None  # the CSV line the record starts on; the header is line 1
    column: str | None
    message: str
    external_id: str | None = None

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class OrderNote:
    """One order of the file as the summary lists it."""

    external_id: str
    lines: int
    total: str
    currency: str
    number: str | None = None  # created or already there; None in a dry run's "would create"
    status: str | None = None
    hold_reason: str | None = None


@dataclass
class ImportSummary:
    channel: str
    filename: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    total_rows: int = 0
    orders: int = 0  # created (real run) or that would be created (dry run)
    lines: int = 0
    duplicates: int = 0  # same channel + external_id with the same content already there
    rejected_orders: int = 0
    rejected_rows: int = 0
    imported: bool = False  # a real run that committed
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: list[OrderNote] = field(default_factory=list)  # created, or would be created
    skipped: list[OrderNote] = field(default_factory=list)  # duplicates
    more: dict[str, int] = field(default_factory=dict)  # entries left out of a stored list

    @property
    def file_errors(self) -> list[RowError]:
        return [e for e in self.errors if e.line is None]

    @property
    def row_errors(self) -> list[RowError]:
        return [e for e in self.errors if e.line is not None]

    @property
    def blocked(self) -> bool:
        """Rows were rejected (or the file refused) and nothing was or would be imported."""
        if self.file_errors:
            return True
        return bool(self.rejected_rows) and not self.skip_invalid

    @property
    def headline(self) -> str:
        if self.file_errors:
            return "Nothing imported: " + " ".join(e.message for e in self.file_errors)
        rejected = f"{self.rejected_rows} row{'s' if self.rejected_rows != 1 else ''} rejected"
        duplicates = f"{self.duplicates} duplicate{'s' if self.duplicates != 1 else ''} skipped"
        if self.blocked:
            verb = "Nothing would be imported" if self.dry_run else "Nothing imported"
            return (f"{verb}: {rejected} ({self.rejected_orders} order{'s' if self.rejected_orders != 1 else ''}). "
                    "Fix the rows, or import with “skip invalid rows” to leave them out.")
        verb = "Would create" if self.dry_run else "Created"
        text = f"{verb} {self.orders} order{'s' if self.orders != 1 else ''} ({self.lines} lines); {duplicates}"
        if self.rejected_rows:
            text += f"; {rejected} and left out"
        return text + "."

    def to_dict(self, limit: int = STORED_LIST_LIMIT) -> dict:
        data = asdict(self)
        for key in ("errors", "created", "skipped", "warnings"):
            data[key] = data[key][:limit]
            data["more"][key] = self.more.get(key, 0) + max(len(getattr(self, key)) - limit, 0)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ImportSummary:
        data = dict(data)
        errors = [RowError(**e) for e in data.pop("errors", [])]
        created = [OrderNote(**n) for n in data.pop("created", [])]
        skipped = [OrderNote(**n) for n in data.pop("skipped", [])]
        return cls(**data, errors=errors, created=created, skipped=skipped)
