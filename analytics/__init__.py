"""Home care market sufficiency analytics: everything but the Streamlit pages.

Layers, in the order data flows through them:

* ``drop_reader``   raw drop (folder or zip) -> string frames, one per contract file
* ``validation``    string frames -> typed, validated frames plus a report of every problem
* ``store``         validated frames -> a new DuckDB snapshot swapped in atomically
* ``marts`` and the indicator modules -> small derived tables that pages read
"""

__version__ = "0.1.0"
