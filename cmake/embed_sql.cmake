# Writes OUT: a C++ source defining slicegate::sql::files(), every .sql file under SRC as a
# {relative path, text} pair. Run as `cmake -DOUT=… -DSRC=… -P embed_sql.cmake`.
# setup.sql is psql input for operators, not something the daemon runs.
file(GLOB_RECURSE files RELATIVE ${SRC} ${SRC}/migrations/*.sql ${SRC}/queries/*.sql
     ${SRC}/slice-schema.sql)
list(SORT files)
set(body "")
foreach(f ${files})
  file(READ ${SRC}/${f} text)
  string(FIND "${text}" ")slicegate_sql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter")
  endif()
  string(APPEND body "    {\"${f}\", R\"slicegate_sql(${text})slicegate_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
"// Generated from sql/ by cmake/embed_sql.cmake; do not edit.\n"
"#include \"persistence/sql_files.hpp\"\n\n"
"namespace slicegate::sql {\n\n"
"const std::vector<file>& files() {\n"
"  static const std::vector<file> all{\n${body}  };\n"
"  return all;\n}\n\n"
"} // namespace slicegate::sql\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
