using System.Net.Http.Headers;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>Files over HTTP (<c>/files</c>, the session token as bearer), and the commands that use them.</summary>
public sealed partial class ChatClient
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(5) };

    private async Task SendFileAsync(Command.SendFile command)
    {
        if (await UploadAsync(command.Path) is not { } id)
        {
            return;
        }

        var time = Format.Now(clock);
        Request request = command.IsGroup
            ? new GroupChatRequest(command.TargetId, command.Caption, time) { File = id }
            : new OneChatRequest(command.TargetId, command.Caption, time) { File = id };
        Submit(request, resend: true, Sent);
    }

    private async Task SetProfileAsync(Command.Profile command)
    {
        string? avatar = null;
        if (command.AvatarPath is { Length: > 0 } path && (avatar = await UploadAsync(path)) is null)
        {
            return;
        }

        Submit(new ProfileRequest(command.About, avatar), resend: true, ack => Done(ack, "profile set"));
    }

    private async Task GetFileAsync(Command.GetFile command)
    {
        if (Authorized(HttpMethod.Get, $"files/{Uri.EscapeDataString(command.FileId)}{(command.Thumb ? "/thumb" : "")}") is not { } request)
        {
            return;
        }

        try
        {
            using (request)
            using (var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
            {
                if (!response.IsSuccessStatusCode)
                {
                    printer.Line($"error: no such file for you ({(int)response.StatusCode})");
                    return;
                }

                await using var file = File.Create(command.Path);
                await response.Content.CopyToAsync(file);
            }

            printer.Line($"saved {command.Path}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or UnauthorizedAccessException or TaskCanceledException)
        {
            printer.Line($"error: {ex.Message}");
        }
    }

    /// <summary>Uploads a file; its id, or null after telling the user why not.</summary>
    private async Task<string?> UploadAsync(string path)
    {
        if (Authorized(HttpMethod.Post, $"files?name={Uri.EscapeDataString(Path.GetFileName(path))}") is not { } request)
        {
            return null;
        }

        try
        {
            using (request)
            {
                await using var file = File.OpenRead(path);
                request.Content = new StreamContent(file);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                request.Content.Headers.ContentLength = file.Length;
                using var response = await Http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    printer.Line($"error: upload refused ({(int)response.StatusCode})");
                    return null;
                }

                using var json = JsonDocument.Parse(body);
                return json.RootElement.GetProperty("id").GetString();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or UnauthorizedAccessException or JsonException or TaskCanceledException)
        {
            printer.Line($"error: {ex.Message}");
            return null;
        }
    }

    /// <summary>A request to the file API with the session token; null (the user told why) when there is none yet.</summary>
    private HttpRequestMessage? Authorized(HttpMethod method, string path)
    {
        var token = _login?.Token;
        if (token is null || options.HttpBase is null)
        {
            printer.Line("error: files need a logged-in session with a token (and the server's http address, CHAT_CLIENT_HTTP)");
            return null;
        }

        var request = new HttpRequestMessage(method, new Uri(options.HttpBase, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private void PrintFound(Answer answer)
    {
        if (!answer.Succeeded)
        {
            printer.Line(Format.Error(answer));
            return;
        }

        var users = (answer as AckMessage)?.Users ?? [];
        printer.Line($"found {users.Count}:");
        foreach (var user in users)
        {
            printer.Line($"    {user.Id} {user.Name} {user.About}");
        }
    }
}
