"""Fulfillment use cases: pick waves, packing by scanner, shipping, delivery, combined parcels.

waves.py     pick queue → wave: one shipment per order at the wave's location
packing.py   scanning units into a parcel until it is packed
shipping.py  handing parcels to a carrier: stock leaves the ledger, invoice, notification
parcels.py   orders of one customer to one address suggested as one parcel
common.py    loading and locking shared by the above
"""
