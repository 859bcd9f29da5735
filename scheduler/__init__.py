"""The clock: jobs are plain functions over due rows; the runner calls them."""
