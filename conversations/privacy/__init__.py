"""Personal data on the customer's side: masking before the model, a customer's export and erasure, retention.
The models that hold personal data are listed in `helpdesk.privacy`'s registry by the apps that own them."""
