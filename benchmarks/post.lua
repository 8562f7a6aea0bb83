-- POSTs the file named by the BODY environment variable as JSON.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
dofile(os.getenv("REPORT"))
