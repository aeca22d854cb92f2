vcl 4.1;
# A sample Varnish 7 configuration for a shared cache in front of Companion
# (Debian's `varnish` package). What it relies on, and the figures measured
# through it, are in docs/shared-cache.md; benchmarks/proxy_benchmark.py
# starts it in front of gunicorn with the backend's port filled in.
#
#   varnishd -a :80 -f /etc/varnish/companion.vcl -s malloc,256m
#
# Set DJANGO_SHARED_CACHE_PURGE_URLS=http://<this host>:<port> on the site so
# that edits ban the pages kept here; list the site's hosts in `purgers`.

backend origin {
    .host = "127.0.0.1";
    .port = "8000";
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "BAN") {
        # From the site when content changes: drop every page whose path starts with the URL.
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        ban("obj.http.x-url ~ ^" + req.url);
        return (synth(200, "Banned"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # A signed-in reader, or one with a flash message waiting: the page is theirs alone.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(sessionid|messages)=") {
        return (pass);
    }
    # Any other cookie (the CSRF cookie a form gave) changes nothing on a shared page:
    # readers who carry one share the copy with those who don't.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_fetch {
    # A current answer from the site, not its worker's few-seconds memory
    # (companion/page_memory.py), so a page fetched after a ban is never older.
    set bereq.http.Cache-Control = "no-cache";
}

sub vcl_backend_response {
    # Keep only what the site marks public (anonymous reading pages); the rest
    # (forms, signed-in pages, errors) passes, remembered as such for two minutes.
    # max-age sets the time to live and stale-while-revalidate the grace, during
    # which Varnish serves the old copy while it fetches the new one.
    if (beresp.http.Cache-Control !~ "(^|,)\s*public\s*(,|$)" || beresp.http.Set-Cookie) {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # One reader's request id is no one else's.
    unset beresp.http.X-Request-ID;
    # Pages compress about six to one for the browsers that ask.
    if (beresp.http.Content-Type ~ "^(text/|application/(json|xml|rss))") {
        set beresp.do_gzip = true;
    }
    # For bans: the path the copy answers.
    set beresp.http.x-url = bereq.url;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.x-url;
}
