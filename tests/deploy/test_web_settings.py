"""config/web.py: the production web server's settings come from our environment variables, and granian's
own variables win over them."""

from config.web import granian_environment


def test_our_variables_become_granians():
    env = granian_environment(
        {"WEB_CONCURRENCY": "5", "WEB_THREADS": "2", "PORT": "9000", "LOG_LEVEL": "WARNING", "OTHER": "x"}
    )
    assert env["GRANIAN_INTERFACE"] == "wsgi"
    assert env["GRANIAN_WORKERS"] == "5" and env["GRANIAN_BLOCKING_THREADS"] == "2"
    assert env["GRANIAN_HOST"] == "127.0.0.1" and env["GRANIAN_PORT"] == "9000"
    assert env["GRANIAN_LOG_LEVEL"] == "warning"  # granian refuses upper case
    assert env["OTHER"] == "x"


def test_the_defaults_keep_requests_finishing_and_dead_workers_replaced():
    env = granian_environment({})
    assert env["GRANIAN_WORKERS"] == "3" and env["GRANIAN_BLOCKING_THREADS"] == "4"
    assert env["GRANIAN_WORKERS_KILL_TIMEOUT"] == "20"
    assert env["GRANIAN_RESPAWN_FAILED_WORKERS"] == "true"
    assert env["GRANIAN_LOG_ACCESS_ENABLED"] == "false"  # the application logs each request itself


def test_a_granian_variable_wins_over_ours():
    env = granian_environment({"WEB_CONCURRENCY": "5", "GRANIAN_WORKERS": "7", "GRANIAN_INTERFACE": "wsgi"})
    assert env["GRANIAN_WORKERS"] == "7"
