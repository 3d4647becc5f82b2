"""gridmap — 社区治理一张图: the Flask application factory."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import access, db, errors, hooks, http_cache, render
from . import config as config_module
from .auth import logins, tokens
from .extensions import csrf, htmx, limiter, login_manager


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route: 0 … 2³¹−1, the range of the integer ids it names."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings read from the environment."""
    root = config_module.PROJECT_ROOT
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    # Ids in URLs are PostgreSQL integers: a larger number names nothing (404), it must not
    # reach the database as an out-of-range value (500).
    app.url_map.converters["int"] = DatabaseId
    app.config.from_mapping(config_module.from_environment())
    if config:
        app.config.from_mapping(config)

    db.init_app(app)
    hooks.register_listeners()
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    logins.register()
    tokens.register()
    limiter.init_app(app)
    if app.config.get("PROXY_HOPS"):
        # Behind the intranet's reverse proxy: the client address comes from X-Forwarded-For
        # (the limiter keys on it) and the scheme from X-Forwarded-Proto (TLS ends at nginx).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    errors.init_app(app)
    http_cache.init_app(app)
    render.init_app(app)
    access.init_app(app)
    from . import crypto
    from .security import headers

    headers.init_app(app)
    # Personal data (staff phones, TOTP secrets) is encrypted with this key at rest.
    crypto.configure(app.config["DATA_KEY"])

    from .admin import views as admin_views
    from .alarms import views as alarm_views
    from .audit import views as audit_views
    from .auth import views as auth_views
    from .boundaries import views as boundary_views
    from .campaigns import attachment_views
    from .campaigns import views as campaign_views
    from .charts import views as chart_views
    from .entities import transfer_views
    from .entities import views as entity_views
    from .events import category_views as event_category_views
    from .events import dashboard_views as event_dashboard_views
    from .events import map_views as event_map_views
    from .events import views as event_views
    from .field import app_views as phone_app_views
    from .field import views as field_views
    from .health import views as health_views
    from .home import views as home_views
    from .hotline import api_views as hotline_api_views
    from .hotline import views as hotline_views
    from .jobs import views as job_views
    from .lookup import report_views
    from .lookup import views as lookup_views
    from .map import basemap_views
    from .map import views as map_views
    from .ogcapi import views as ogcapi_views
    from .patrol import views as patrol_views
    from .printing import views as printing_views
    from .property import views as property_views
    from .register import people_views, unit_views, visit_views  # noqa: F401  (on register bp)
    from .register import views as register_views
    from .reports import views as report_page_views
    from .security import personal
    from .standards import views as standards_views

    for blueprint in (
        auth_views.bp,
        health_views.bp,
        home_views.bp,
        chart_views.bp,
        map_views.bp,
        lookup_views.bp,
        entity_views.bp,
        audit_views.bp,
        transfer_views.bp,
        patrol_views.bp,
        admin_views.bp,
        personal.bp,
        campaign_views.bp,
        attachment_views.bp,
        property_views.bp,
        job_views.bp,
        register_views.bp,
        event_dashboard_views.bp,
        ogcapi_views.bp,
        report_views.bp,
        hotline_views.bp,
        hotline_api_views.bp,
        field_views.bp,
        phone_app_views.bp,
        event_map_views.bp,
        event_views.bp,
        event_category_views.bp,
        boundary_views.bp,
        alarm_views.bp,
        standards_views.bp,
        printing_views.bp,
        report_page_views.bp,
        basemap_views.bp,
    ):
        app.register_blueprint(blueprint)
    from .entities.registry import ENTITIES

    audit_views.init_app(
        app,
        {key: entity.label for key, entity in ENTITIES.items()},
        {key: entity.personal_fields for key, entity in ENTITIES.items()},
        personal.mask_phone,
    )
    from .models import EventParty

    personal.init_app(
        app,
        {
            **{
                key: personal.PersonalKind(
                    entity.model,
                    entity.label,
                    {spec.name: spec.label for spec in entity.fields if spec.personal},
                )
                for key, entity in ENTITIES.items()
                if entity.personal_fields
            },
            event_views.PARTY_KIND: personal.PersonalKind(
                EventParty,
                "事件当事人",
                {"name": "姓名", "phone": "电话"},
                owner=event_views.party_owner,
            ),
        },
    )

    from . import cli

    cli.init_app(app)
    return app
