from django.contrib.staticfiles.apps import StaticFilesConfig


class RecorrenteStaticFilesConfig(StaticFilesConfig):
    """collectstatic without the npm packages' files no page uses (other builds, sources, typings): 224
    files and 34 MB compressed in a minute otherwise. The pages load bootstrap.min.css,
    bootstrap.bundle.min.js, bootstrap-icons.min.css (+ fonts) and htmx.min.js, with their source maps."""

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "bootstrap-grid*",
        "bootstrap-reboot*",
        "bootstrap-utilities*",
        "*.rtl.*",
        "bootstrap.css",
        "bootstrap.css.map",
        "bootstrap.js",
        "bootstrap.js.map",
        "bootstrap.min.js",
        "bootstrap.min.js.map",
        "bootstrap.esm*",
        "bootstrap.bundle.js",
        "bootstrap.bundle.js.map",
        "bootstrap-icons.css",
        "bootstrap-icons.json",
        "bootstrap-icons.scss",
        "bootstrap-icons.ts",
        "htmx.js",
        "htmx.amd.js",
        "htmx.cjs.js",
        "htmx.esm*",
        "htmx.min.js.gz",
        "ext",
    ]
