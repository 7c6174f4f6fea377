-- Reads of Chinook's invoices (segue shadow --log), for a mapping that
-- moves only the invoices its where filter takes
SELECT count(*), sum(Total) FROM Invoice WHERE BillingCountry = 'USA';
SELECT InvoiceId, Total, BillingCity FROM Invoice WHERE CustomerId = 5 ORDER BY InvoiceId;
SELECT i.InvoiceId, c.LastName FROM Invoice i JOIN Customer c USING (CustomerId)
  WHERE i.Total > 10 ORDER BY i.Total DESC, i.InvoiceId LIMIT 5;
SELECT BillingCountry, max(Total) FROM Invoice GROUP BY BillingCountry ORDER BY 1;
