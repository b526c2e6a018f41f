using Chat.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddChatServer();
var app = builder.Build();
app.MapChatEndpoints();
await app.RunAsync();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
