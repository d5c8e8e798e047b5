"""One module per provider: the pure mapping of its raw-topic records into the PaymentEvent."""
