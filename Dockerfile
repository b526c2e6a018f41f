# Chat server image: docker build -t chat-server .   (docker-compose.yml builds it for chat1 and chat2)

# ---- build -------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Project files first, so the restore layer is reused until a project or package version changes. Only the
# server and the projects it references: tests, client and bench are not part of the image.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Chat.Protocol/Chat.Protocol.csproj       src/Chat.Protocol/
COPY src/Chat.Domain/Chat.Domain.csproj           src/Chat.Domain/
COPY src/Chat.Persistence/Chat.Persistence.csproj src/Chat.Persistence/
COPY src/Chat.Server/Chat.Server.csproj           src/Chat.Server/
RUN dotnet restore src/Chat.Server/Chat.Server.csproj

COPY src/ src/
COPY clients/js/chat-client.js clients/js/
RUN dotnet publish src/Chat.Server/Chat.Server.csproj -c Release --no-restore -o /app -p:UseAppHost=false

# ---- runtime -----------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime

# The aspnet image (Ubuntu/Debian based) has no HTTP client; the healthcheck needs one to ask /readyz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=build /app ./

# The server binds its two ports itself (Chat__Port, Chat__HttpPort); the image's default
# ASPNETCORE_HTTP_PORTS=8080 would only make Kestrel warn that it is overridden.
# Socket completions run on the event thread instead of the thread pool (fewer thread hops per message; see
# docs/OPERATIONS.md "Tuning").
ENV ASPNETCORE_HTTP_PORTS= \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
    Chat__ListenAddress=0.0.0.0 \
    Chat__Port=6000 \
    Chat__HttpPort=8080

# Chat TCP (newline-delimited JSON) and HTTP health endpoints (/healthz, /readyz).
EXPOSE 6000 8080

# The image's built-in unprivileged user; nothing here needs root.
USER $APP_UID

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://localhost:8080/readyz || exit 1

ENTRYPOINT ["dotnet", "Chat.Server.dll"]
