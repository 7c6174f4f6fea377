-- Reads an application of the Chinook store makes, written for the old
-- Track table (segue shadow --log); one statement per ;
SELECT t.Name, a.Title, ar.Name FROM Track t JOIN Album a ON a.AlbumId = t.AlbumId
  JOIN Artist ar ON ar.ArtistId = a.ArtistId WHERE t.AlbumId = 5 ORDER BY t.Name;
SELECT g.Name, count(*), sum(t.UnitPrice), avg(t.Milliseconds) FROM Track t
  JOIN Genre g USING (GenreId) GROUP BY g.Name ORDER BY g.Name;
SELECT Name, Composer FROM Track WHERE Name LIKE '%love%' ORDER BY Name, TrackId LIMIT 10;
SELECT * FROM Track WHERE TrackId = 42;
SELECT TrackId, Name, UnitPrice FROM Track WHERE UnitPrice > 1 ORDER BY TrackId;
SELECT m.Name, count(*) FROM Track t JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId GROUP BY m.Name;
WITH long AS (SELECT TrackId FROM Track WHERE Milliseconds > 600000)
  SELECT count(*) FROM long;
SELECT TrackId, Name FROM Track ORDER BY Milliseconds DESC, TrackId LIMIT 5;
SELECT a.Title, sum(t.Bytes) FROM Album a JOIN Track t ON t.AlbumId = a.AlbumId
  GROUP BY a.AlbumId, a.Title HAVING count(*) > 20 ORDER BY 2 DESC;
SELECT TrackId FROM Track ORDER BY random() LIMIT 3;
UPDATE Track SET Name = 'never run' WHERE TrackId = 1;
SELECT * FROM Invoice WHERE InvoiceId = 1
