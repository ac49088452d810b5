-- mart.build_info: which as-of date the mart tables were built for (the rules check it).
CREATE OR REPLACE TABLE mart.build_info AS
SELECT {{ as_of }} AS as_of, CAST(now() AS TIMESTAMP) AS built_at;
