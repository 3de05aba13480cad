"""Knowledge: article files → articles (`articles`) → sentences and passages (`passages`)."""
