// SQLite for read_sql, linked from the system (Debian: libsqlite3-dev).
#include <sqlite3.h>
