"""Language: German analysis (tokens, compounds, stems), stopwords, English questions, the
dictionary and thesaurus, and the cache of their parsed forms."""
