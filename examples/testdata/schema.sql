CREATE TABLE orders (
    id         serial PRIMARY KEY,
    customer   text    NOT NULL,
    total_cents integer NOT NULL CHECK (total_cents >= 0)
);
INSERT INTO orders (customer, total_cents) VALUES ('ada', 1250), ('grace', 990);
