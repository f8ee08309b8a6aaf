-- The server's version number (e.g. 150018): proves that the connection answers.
SELECT current_setting('server_version_num')::integer AS version
