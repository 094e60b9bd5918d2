"""marshmallow schemas: one module per resource. Schemas own validation."""
