"""The way in: a drop is read, validated, staged and pseudonymised.

``drop_reader`` (folder or zip of CSV, Excel, Parquet; manifest; boundaries), ``validation`` (every
contract rule at once), ``issues`` (the shape of a finding), ``public_files`` (CQC and RUC files
that ride along in a drop), ``staged`` (typed frames, the schemas generated from the contract),
``pseudonymise`` (keyed hash of person identifiers), ``report`` (validation reports), ``upload``
(a browser upload to a drop folder), ``limits`` (what one drop may cost: ``[limits]`` in
config.toml, checked before anything is read), ``sandbox`` (checking a drop in a memory- and
time-limited child process) and ``importers`` (public formats: CQC, ONS RUC, NHS CLD).
"""
