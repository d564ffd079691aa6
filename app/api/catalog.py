"""Products, locations and channels."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api import schemas as s
from app.auth.access import current_actor, role_required
from app.services import catalog

products = Blueprint("api_products", __name__, url_prefix="/api/v1/products", description="Products")
locations = Blueprint("api_locations", __name__, url_prefix="/api/v1/locations", description="Locations")
channels = Blueprint("api_channels", __name__, url_prefix="/api/v1/channels", description="Sales channels")

ERRORS = {"401": s.ErrorSchema, "403": s.ErrorSchema, "409": s.ErrorSchema, "422": s.ErrorSchema}


def _page(page) -> dict:
    return {"items": page.items, "next_cursor": page.next_cursor}


@products.get("")
@products.arguments(s.ListArgsSchema, location="query")
@products.response(200, s.ProductListSchema)
@products.alt_response(401, schema=s.ErrorSchema)
def list_products(args):
    return _page(catalog.list_products(cursor=args["cursor"], limit=args["limit"]))


@products.post("")
@role_required("admin", "manager")
@products.arguments(s.ProductCreateSchema)
@products.response(201, s.ProductSchema)
@products.alt_response(409, schema=s.ErrorSchema)
@products.alt_response(422, schema=s.ErrorSchema)
def create_product(body):
    return catalog.create_product(**body, actor=current_actor())


@products.get("/<sku>")
@products.response(200, s.ProductSchema)
@products.alt_response(404, schema=s.ErrorSchema)
def get_product(sku):
    return catalog.get_product(sku)


@locations.get("")
@locations.arguments(s.ListArgsSchema, location="query")
@locations.response(200, s.LocationListSchema)
def list_locations(args):
    return _page(catalog.list_locations(cursor=args["cursor"], limit=args["limit"]))


@locations.post("")
@role_required("admin")
@locations.arguments(s.LocationCreateSchema)
@locations.response(201, s.LocationSchema)
@locations.alt_response(409, schema=s.ErrorSchema)
@locations.alt_response(422, schema=s.ErrorSchema)
def create_location(body):
    return catalog.create_location(**body, actor=current_actor())


@channels.get("")
@channels.arguments(s.ListArgsSchema, location="query")
@channels.response(200, s.ChannelListSchema)
def list_channels(args):
    return _page(catalog.list_channels(cursor=args["cursor"], limit=args["limit"]))


@channels.post("")
@role_required("admin")
@channels.arguments(s.ChannelCreateSchema)
@channels.response(201, s.ChannelSchema)
@channels.alt_response(409, schema=s.ErrorSchema)
@channels.alt_response(422, schema=s.ErrorSchema)
def create_channel(body):
    return catalog.create_channel(**body, actor=current_actor())
