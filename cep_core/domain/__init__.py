"""Pure domain: Structs and rules. Imports nothing from services, storage or web."""
