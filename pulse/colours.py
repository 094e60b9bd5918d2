"""The three colours a rating may have, in the order every table, message and output holds them."""

COLOURS = ("red", "amber", "green")
