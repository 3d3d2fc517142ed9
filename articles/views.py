from django.views.generic import ListView

from .models import Article


class HomeView(ListView):
    template_name = "articles/home.html"

    def get_queryset(self):
        return Article.objects.published().for_list()
