# MariaDB from Debian's mariadb-server package, laid out like the upstream image: data in
# /var/lib/mysql, port 3306, in the foreground, logs on stderr; the server runs as the
# package's own non-root user (mysql). The client (mariadb) is in the image for checks.
ARG BASE
FROM ${BASE}
RUN apt-get update -q && apt-get install -y -q --no-install-recommends mariadb-server mariadb-client \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/lib/mysql/* \
 && mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql \
 && echo "mysql uid=$(id -u mysql) gid=$(id -g mysql)" > /etc/mysql/image-user
USER mysql
EXPOSE 3306
CMD ["mariadbd", "--datadir=/var/lib/mysql"]
