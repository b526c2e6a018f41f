using Chat.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddChatServer();
var app = builder.Build();
app.MapDefaultEndpoints();
app.MapChatEndpoints();
await app.RunAsync();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
