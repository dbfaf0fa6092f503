#!/bin/sh
# The baseline the playbook's first converge is measured against: a plain
# shell script doing the same essential work on an identical fresh host
# (install Apache, enable the modules, configure the CGI directory and the
# HTTPS site, make a self-signed certificate, copy the scripts, start the
# service).  No checks, no idempotence, no rollback: the floor of the job.
#
#   tar -c cgi-bin static | ssh HOST 'sh -s' < baseline-provision.sh  (see run.py)
#
# The project's cgi-bin/ and static/ arrive as a tar archive in $KIT_FILES.
set -eu
export DEBIAN_FRONTEND=noninteractive
name=$(hostname)

apt-get update -qq
apt-get install -y -qq apache2 openssl >/dev/null

a2enmod -q cgid headers ssl auth_basic authn_file authz_user
a2dismod -q -f autoindex
a2disconf -q serve-cgi-bin
a2dissite -q 000-default

mkdir -p /usr/local/lib/apache-cgi-kit /usr/local/share/apache-cgi-kit/static /tmp/kit
tar -x -f "$KIT_FILES" -C /tmp/kit
install -o root -g root -m 0755 /tmp/kit/cgi-bin/*.py /usr/lib/cgi-bin/
install -o root -g root -m 0644 /tmp/kit/cgi-bin/lib/*.py /usr/local/lib/apache-cgi-kit/
install -o root -g root -m 0644 /tmp/kit/static/* /usr/local/share/apache-cgi-kit/static/
python3 -m compileall -q /usr/local/lib/apache-cgi-kit
install -d -o www-data -g www-data -m 0700 /var/lib/apache-cgi-kit
printf '%s' benchmark-only-dashboard-password | htpasswd -i -c -B /etc/apache2/cgi-kit.htpasswd admin 2>/dev/null
chgrp www-data /etc/apache2/cgi-kit.htpasswd
chmod 0640 /etc/apache2/cgi-kit.htpasswd

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 365 \
  -subj "/CN=$name" -addext "subjectAltName=DNS:$name" \
  -keyout /etc/ssl/private/apache-cgi-kit.key -out /etc/ssl/certs/apache-cgi-kit.pem 2>/dev/null

cat > /etc/apache2/conf-available/cgi-kit.conf <<CONF
ServerName $name
ServerTokens Prod
ServerSignature Off
TraceEnable Off
RequestHeader unset Proxy early
Header always set X-Content-Type-Options nosniff
Header always set Content-Security-Policy "default-src 'self'"
ScriptAlias /cgi-bin/ /usr/lib/cgi-bin/
<Directory /usr/lib/cgi-bin>
    Options +ExecCGI -Indexes
    Require all granted
    SetEnv CGIKIT_LIB /usr/local/lib/apache-cgi-kit
    <Files dashboard.py>
        AuthType Basic
        AuthName Dashboard
        AuthUserFile /etc/apache2/cgi-kit.htpasswd
        Require valid-user
    </Files>
</Directory>
Alias /kit-static/ /usr/local/share/apache-cgi-kit/static/
<Directory /usr/local/share/apache-cgi-kit/static>
    Require all granted
</Directory>
CONF
cat > /etc/apache2/sites-available/cgi-kit.conf <<CONF
<VirtualHost *:80>
    Redirect permanent / https://$name/
</VirtualHost>
<VirtualHost *:443>
    SSLEngine on
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    SSLCertificateFile /etc/ssl/certs/apache-cgi-kit.pem
    SSLCertificateKeyFile /etc/ssl/private/apache-cgi-kit.key
    Header always set Strict-Transport-Security "max-age=63072000"
</VirtualHost>
CONF
a2enconf -q cgi-kit
a2ensite -q cgi-kit
apache2ctl configtest 2>/dev/null
systemctl restart apache2
